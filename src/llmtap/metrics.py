"""GenAI client metrics with the semantic conventions' units and advisory bucket boundaries, and llmtap's cost."""

from __future__ import annotations

from opentelemetry.metrics import Counter, Histogram, Meter
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]


COST = "llmtap.client.cost"


class GenAIMetrics:
    """The three client histograms and the cost counter, created once per meter."""

    __slots__ = ("cost", "duration", "time_to_first_chunk", "token_usage")

    def __init__(self, meter: Meter) -> None:
        self.token_usage: Histogram = meter.create_histogram(
            gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.duration: Histogram = meter.create_histogram(
            gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.time_to_first_chunk: Histogram = meter.create_histogram(
            gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        # A counter: what users ask of cost is a sum (by model, provider, label) over time.
        self.cost: Counter = meter.create_counter(
            COST, unit="USD", description="Cost of GenAI operations in US dollars, from token usage and model prices."
        )
