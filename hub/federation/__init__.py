"""A convention of several rooms: room hubs publish their journals to NATS JetStream, the
plenary consumes them, checks every room's hash chain and adds the rooms' merit profiles.

Pure core: ``access`` (subjects, users, permissions), ``wire`` (the record message),
``chain`` (one room's chain as records arrive), ``channels`` (paper sheets, online imports),
``convention`` (the plenary's state). Edges: ``natsserver`` (the server process),
``publisher`` (a room's outbox), ``plenary`` (consumers, journal, live state), ``web``.
"""
