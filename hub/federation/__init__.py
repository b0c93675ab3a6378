"""A convention of several rooms: room hubs publish their journals to NATS JetStream, the
plenary consumes them, checks every room's hash chain and adds the rooms' merit profiles.

Pure core: ``access`` (subjects, users, permissions), ``wire`` (the record message), ``chain``
(one room's chain as records arrive), ``intake`` (in order, once, or refused aloud),
``channels`` (paper sheets, online imports), ``convention`` (the plenary's state and journal
records), ``live`` (its live state), ``export``. Edges: ``natsserver`` (the server process),
``setup`` (its configuration files), ``link`` (a NATS connection), ``outbox`` and ``publisher``
(a room's outbox), ``room`` (the glue with a hub), ``plenary`` (consumers, loop, journal),
``audit`` (verify), ``report``, ``web``, ``serve``, ``commands``, ``demo``.
"""
