/* French first, English available: every visible string of the pages. */
const STRINGS = {
  fr: {
    waiting: "En attente du prochain vote", how: "Appuyez sur la touche de votre évaluation.",
    voted: (n, e) => `${n} / ${e} ont voté`, vote: "Vote en cours", result: "Résultat",
    ranking: "Classement", consent: "Tour de consentement", queue: "Prise de parole",
    majority: "Mention majoritaire", ex: "ex aequo", receivers: "récepteurs", updated: "mis à jour",
    frozen: "affichage figé — reconnexion…", all: "toutes", page: "page", closing: "Clôture…",
    colours: { green: "vert", yellow: "jaune", orange: "orange", red: "rouge" }, journal: "Journal",
  },
  en: {
    waiting: "Waiting for the next vote", how: "Press the key of your judgment.",
    voted: (n, e) => `${n} / ${e} have voted`, vote: "Vote in progress", result: "Result",
    ranking: "Ranking", consent: "Consent round", queue: "Speaking order",
    majority: "Majority grade", ex: "tied", receivers: "receivers", updated: "updated",
    frozen: "display frozen — reconnecting…", all: "all", page: "page", closing: "Closing…",
    colours: { green: "green", yellow: "yellow", orange: "orange", red: "red" }, journal: "Journal",
  },
};
function pct(x, lang) {
  const s = (x).toFixed(1);
  return lang === "fr" ? s.replace(".", ",") + "\u202f%" : s + "%";
}
