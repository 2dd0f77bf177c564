"""A tiny run of bench/producers_throughput.py so it does not rot: checks the JSON shape, never a speed."""

from tests.support.bench import run_benchmark

BENCH = "producers_throughput.py"


async def test_benchmark_prints_its_json(kafka_bootstrap: str) -> None:
    report = await run_benchmark(
        BENCH, "--seconds", "0.5", "--kinds", "game", "--bootstrap", kafka_bootstrap, timeout_s=300
    )
    assert report["benchmark"] == "producers_throughput"
    assert report["machine"]["nproc"] >= 1
    game = report["results"]["game"]
    assert set(game) == {"kemu", "java_producer_perf", "ratio_events_per_s"}
    for side in ("kemu", "java_producer_perf"):
        for field in ("events_per_s", "peak_rss_mib", "process_cpu_us_per_event"):
            assert game[side][field] > 0, (side, field)
    assert game["kemu"]["failed"] == 0
    assert game["kemu"]["acknowledged"] == game["kemu"]["sent"] > 0
    assert game["java_producer_perf"]["record_size"] == round(game["kemu"]["mean_record_bytes"])
    assert game["ratio_events_per_s"] > 0


async def test_paced_benchmark_compares_the_records_path_with_the_dict_path_under_realism(
    kafka_bootstrap: str,
) -> None:
    arguments = ["--seconds", "0.5", "--kinds", "game", "--bootstrap", kafka_bootstrap]
    arguments += ["--out-of-order", "0.02", "--malformed", "0.005", "--compare-dict-path", "--rate", "2000"]
    report = await run_benchmark(BENCH, *arguments, timeout_s=300)
    assert report["settings"]["out_of_order_ratio"] == 0.02
    assert report["settings"]["malformed_ratio"] == 0.005
    assert report["settings"]["rate"] == 2000
    assert report["settings"]["pacing_tick_ms"] == 5.0
    game = report["results"]["game"]
    assert "java_producer_perf" not in game  # paced: no flat-out peer
    for side in ("kemu", "kemu_dict_path"):
        assert game[side]["acknowledged"] == game[side]["sent"] > 0
        assert game[side]["failed"] == 0
        assert game[side]["cpu_us_per_event"] > 0
        assert game[side]["cpu_share_of_one_core"] > 0
    assert game["ratio_records_to_dict_path_events_per_s"] > 0
    assert game["ratio_records_to_dict_path_cpu_us_per_event"] > 0
