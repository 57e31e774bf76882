"""The pytest surface of pytest-drift (the `pytest11` entry point).

One module per concern, each a plugin of its own that owns its stash keys:
options (read once), catalogue (registry, models, markers, network guard), collection
(parametrisation), baseline (recorded verdicts), fixtures (episodes), aggregate (outcomes,
report, summary), transcripts (each episode's conversation beside the outcomes), live
(live episodes played at once, cost budget, shards, progress), forks (recorded episodes
continued from a step).
Hookspecs are the contract for other plugins.
"""

pytest_plugins = [
    "pytest_drift.plugin.options",
    "pytest_drift.plugin.catalogue",
    "pytest_drift.plugin.forks",
    "pytest_drift.plugin.collection",
    "pytest_drift.plugin.baseline",
    "pytest_drift.plugin.fixtures",
    "pytest_drift.plugin.aggregate",
    "pytest_drift.plugin.transcripts",
    "pytest_drift.plugin.live",
]
