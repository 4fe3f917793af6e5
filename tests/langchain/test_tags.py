"""`llmtap.langchain.tags` holds the tags the application passed, never those LangChain and LangGraph add to
child runs themselves (`seq:step:N`, `map:key:K`, `condition:N`, `branch:N`, `retry:attempt:N`,
`graph:step:N`, `langsmith:...`)."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableBranch, RunnableLambda, RunnableParallel
from langgraph.graph import END, START, StateGraph

from tests.langchain.support import tree
from tests.support.telemetry import Telemetry


class State(TypedDict):
    question: str
    answer: str


class TagLog(BaseCallbackHandler):
    """Every tag LangChain hands to callbacks: proves the internal ones were really there."""

    def __init__(self) -> None:
        self.tags: set[str] = set()

    def on_chain_start(self, serialized: Any, inputs: Any, *, tags: list[str] | None = None, **kw: Any) -> None:
        self.tags.update(tags or ())

    def on_chat_model_start(self, serialized: Any, messages: Any, *, tags: list[str] | None = None, **kw: Any) -> None:
        self.tags.update(tags or ())


def test_only_the_applications_tags_are_recorded(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Paris")]))
    attempts: list[str] = []

    def flaky(inputs: dict[str, Any]) -> str:
        attempts.append(inputs["question"])
        if len(attempts) == 1:
            raise ValueError("try again")
        return inputs["question"]

    retried = RunnableLambda(flaky, name="flaky").with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    chain = (
        RunnableParallel(question=RunnableLambda(lambda q: q, name="keep"), size=RunnableLambda(len, name="size"))
        | RunnableBranch((lambda d: d["size"] > 0, retried), RunnableLambda(lambda d: "empty", name="empty"))
        | model
    )

    def answer(state: State) -> dict[str, str]:
        return {"answer": str(chain.invoke(state["question"]).content)}

    builder = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    log = TagLog()
    config = {"tags": ["user-tag", "env:prod"], "callbacks": [log]}

    assert builder.compile().invoke({"question": "Capital?", "answer": ""}, config)["answer"] == "Paris"

    assert {"seq:step:1", "map:key:question", "condition:1", "branch:1", "retry:attempt:2", "graph:step:1"} <= log.tags
    spans = instrumented.genai_spans()
    assert tree(spans) == [
        (
            "invoke_workflow LangGraph",
            [
                (
                    "invoke_workflow answer",
                    [
                        (
                            "invoke_workflow RunnableSequence",
                            [
                                (
                                    "invoke_workflow RunnableParallel<question,size>",
                                    ["invoke_workflow keep", "invoke_workflow size"],
                                ),
                                (
                                    "invoke_workflow RunnableBranch",
                                    [
                                        "invoke_workflow RunnableLambda",  # the condition
                                        ("invoke_workflow flaky", ["invoke_workflow flaky", "invoke_workflow flaky"]),
                                    ],
                                ),
                                "chat",
                            ],
                        )
                    ],
                )
            ],
        )
    ]
    assert {span.attributes.get("llmtap.langchain.tags") for span in spans} == {("env:prod", "user-tag")}
