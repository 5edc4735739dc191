from client_sim import MakeUpdater, RepositorySimulator


def test_basic_refresh(sim: RepositorySimulator, make_updater: MakeUpdater) -> None:
    updater = make_updater()
    updater.refresh()
    assert sim.requests == [("root", 2), ("timestamp", None), ("snapshot", 1), ("targets", 1)]
