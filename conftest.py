# Root conftest: kept thin on purpose; the plugin registers itself through its pytest11 entry point.
