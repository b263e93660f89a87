"""``make bench``: throughput and latency of a real mock-remd server (see ``python -m mock_remd.bench -h``)."""
