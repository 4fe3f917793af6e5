"""Usage: .venv/bin/python scripts/cassettes/record_openai.py [case ...]  (no network: a mock transport serves the bodies)

Write cassettes/openai/*.yaml by recording the SDK against a mock transport serving the wire bodies."""

import sys
from pathlib import Path

import httpx2
import vcr
from openai_cases import CASES

import openai

OUT = Path(__file__).resolve().parents[2] / "cassettes" / "openai"


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
    print("wrote", path)


names = sys.argv[1:] or list(CASES)
for name in names:
    run(name, CASES[name])
