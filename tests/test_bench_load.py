"""bench/bench_load.py's mix and arguments (the benchmark itself prints figures: it is never run here)."""

import pytest

from bench.bench_load import MIX, page_rates, parse_args, percentile


def test_mix_is_the_posts_personas():
    assert {persona: count for persona, (count, _, _) in MIX.items()} == {
        "tablet": 40,
        "importer": 400,
        "supervisor": 5,
        "lab": 1,
    }


def test_page_rates_split_each_personas_rate_over_its_pages():
    rates = page_rates()
    assert rates["day page"] == ("tablet", pytest.approx(40 / 10 / 2))
    assert rates["API consignment detail"] == ("importer", pytest.approx(400 / 60 / 2))
    assert rates["dashboard"] == ("supervisor", pytest.approx(5 / 15))
    assert rates["API lab result"] == ("lab", pytest.approx(1 / 5))
    for persona, (count, every, _) in MIX.items():
        assert sum(rate for who, rate in rates.values() if who == persona) == pytest.approx(count / every)


def test_page_rates_of_another_mix():
    rates = page_rates({"tablet": (10, 5.0, {"day page": 3, "task form": 1})})
    assert rates == {"day page": ("tablet", pytest.approx(1.5)), "task form": ("tablet", pytest.approx(0.5))}


def test_defaults_are_both_servers_at_1_8_and_32_clients():
    args = parse_args([])
    assert args.servers == ["prod", "runserver"]
    assert args.clients == [1, 8, 32]
    assert args.seconds == 20.0


def test_arguments_are_parsed():
    args = parse_args(["--servers", "prod", "--clients", "2", "4", "--seconds", "3", "--port", "8113"])
    assert (args.servers, args.clients, args.seconds, args.port) == (["prod"], [2, 4], 3.0, 8113)


@pytest.mark.parametrize(
    "argv", [["--clients", "0"], ["--seconds", "0"], ["--decide-every", "-1"], ["--servers", "uwsgi"]]
)
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_percentile():
    assert percentile([], 0.95) == 0.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
