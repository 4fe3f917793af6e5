"""Usage: .venv/bin/python scripts/cassettes/record_openai.py [case ...]  (no network: a mock transport serves the bodies)

Write cassettes/openai/*.yaml by recording the SDK against a mock transport serving the wire bodies;
each written cassette is then checked by the strict wire validator the tests use (tests/support/wire.py)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the recipes share their request pieces with the tests (tests/support)

import httpx2  # noqa: E402
import vcr  # noqa: E402
from openai_cases import CASES  # noqa: E402
from tests.support.wire import interaction_problems, interactions  # noqa: E402

import openai  # noqa: E402

OUT = ROOT / "cassettes" / "openai"


def validate(path):
    for interaction in interactions(path):
        found = interaction_problems(interaction)
        if found:
            raise SystemExit(f"{path.name}: wire format drift: {found}")


def strip_request(request):
    keep = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
    request.headers = keep
    return request


def run(name, make):
    call, reply = make()
    path = OUT / f"{name}.yaml"
    path.unlink(missing_ok=True)

    def handler(request):
        return httpx2.Response(reply["status"], headers=reply["headers"], content=reply["body"].encode())

    recorder = vcr.VCR(
        record_mode="all",
        filter_headers=["authorization", "api-key", "x-api-key"],
        before_record_request=strip_request,
        decode_compressed_response=True,
    )
    with recorder.use_cassette(str(path)):
        client = openai.OpenAI(
            api_key="sk-test", max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
        )
        try:
            call(client)
        except openai.APIError as exc:
            print(name, "raised", type(exc).__name__)
    validate(path)
    print("wrote", path)


names = sys.argv[1:] or list(CASES)
for name in names:
    run(name, CASES[name])
