"""`llmtap demo`: a small real application — Velora Bikes' support assistant — instrumented by llmtap and played
offline against recorded OpenAI and Anthropic responses, recorded into a local store.

    app.py         the application: a LangChain RAG chain, an OpenAI tool-calling step, a Claude summary
    traffic.py     who asks what, with which prompt version, and the feedback they give
    recorded.py    the model APIs played back from recordings.json on a loopback server (no key, no network)
    llmtap.toml    the app's llmtap settings: labels, annotation schemas, routes, the `review` queue
    run.py         instruments the app into a store and runs the traffic (the routes queue traces as they go)
    reviewer.py    a scripted reviewer working the `review` queue (llmtap.review), and the chat export
    loopback.py    the loopback HTTP server (the test suite's fakes of the APIs use it too)

Only `loopback.py` is imported by the test suite; the rest imports the SDKs (`pip install "llmtap[demo]"`).
"""
