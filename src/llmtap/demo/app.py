"""The demo's application: Velora Bikes' support assistant, a small but real LLM feature.

One customer question is one trace (`invoke_workflow support_turn`):

1. Order questions ("Where is my order VB-1042?") go to a tool-calling step with the OpenAI SDK: the model asks
   for `get_order_status`, the application runs the tool (`execute_tool get_order_status`), the model answers.
2. Every other question goes through a RAG chain in LangChain: a retriever over the shop's policy documents
   (`retrieval PolicyRetriever`, documents with scores), a prompt — version v1 or v2 — and `ChatOpenAI`.
3. Claude (the Anthropic SDK) writes a one-line summary of the exchange for the CRM; when the API is overloaded
   the application carries on without it (the one error of the demo).

The user, their segment and the prompt version are labels (`llmtap.tags`), so every span of the trace has them.
Nothing here knows it is a demo: the clients are given a base URL, as an application's tests would do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI

import anthropic
import llmtap
import openai

CHAT_MODEL = "gpt-4o-mini"
SUMMARY_MODEL = "claude-haiku-4-5"

# The shop's policy documents the RAG step retrieves from.
DOCUMENTS = {
    "policy-returns": "Returns: unused bikes and parts can be returned within 30 days of delivery for a full refund. "
    "Ridden bikes can be returned within 30 days for store credit, minus a 10% restocking fee.",
    "policy-sizing": "Frame sizes by rider height: S for 155-165 cm, M for 165-178 cm, L for 178-190 cm, "
    "XL above 190 cm. Between two sizes, pick the smaller one for a sportier fit.",
    "policy-ebike": "E-bike battery: 500 Wh. Range 60-120 km depending on assist level, terrain and rider weight. "
    "A full charge takes 4.5 hours; the battery keeps 80% of its capacity after 800 charges.",
    "policy-warranty": "Warranty: frames carry a lifetime warranty against manufacturing defects for the first "
    "owner; components and e-bike batteries are covered for 2 years. Crash damage is not covered.",
    "policy-service": "Service: the first service within 6 months of delivery is free at any partner workshop. "
    "Later services are priced by the workshop.",
    "policy-shipping": "Shipping: orders ship within 2 business days from our warehouse in Utrecht; delivery takes "
    "1-3 business days in the EU. Every order gets a tracking link by email.",
}

# The system prompt of the answer step, by version (the `prompt_version` label says which one a trace used).
PROMPTS = {
    "v1": "Answer the customer's question using these policy excerpts:\n{context}",
    "v2": "You are Velora Bikes' support assistant. Answer in at most two friendly sentences, using only these "
    "policy excerpts, and name the policy you used:\n{context}",
}

ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_order_status",
        "description": "The shipping status of a customer's order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "e.g. VB-1042"}},
            "required": ["order_id"],
        },
    },
}
ORDERS = {
    "VB-1042": {"status": "shipped", "carrier": "DHL", "tracking": "JD014600003813", "eta": "2025-12-02"},
    "VB-2077": {"status": "packing", "carrier": None, "tracking": None, "eta": "2025-12-04"},
}
_ORDER_ID = re.compile(r"\bVB-\d{4}\b")
_WORDS = re.compile(r"[a-z0-9-]+")
_STOP_WORDS = frozenset("a an the i my do does to of on in is it for be by and or can what how which".split())


class PolicyRetriever(BaseRetriever):
    """The policy documents sharing the most words with the question (a score in 0..1 per document)."""

    k: int = 2

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        words = set(_WORDS.findall(query.lower())) - _STOP_WORDS
        scored = []
        for doc_id, text in DOCUMENTS.items():
            overlap = words & set(_WORDS.findall(text.lower()))
            if overlap:
                scored.append((round(len(overlap) / len(words), 2), doc_id, text))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [Document(id=doc_id, page_content=text, metadata={"score": score}) for score, doc_id, text in scored][
            : self.k
        ]


@llmtap.tool(description="The shipping status of a customer's order")
def get_order_status(order_id: str) -> dict[str, Any]:
    return ORDERS.get(order_id, {"status": "unknown order"})


@dataclass(frozen=True)
class Answer:
    text: str
    ref: llmtap.SpanRef  # the turn's span: where the customer's thumbs up / down is linked later


@dataclass
class SupportBot:
    openai_client: openai.OpenAI
    anthropic_client: anthropic.Anthropic
    chat_model: ChatOpenAI

    @classmethod
    def connect(cls, base_url: str) -> SupportBot:
        """Clients for the model APIs at `base_url` (no retries: the demo's one error stays one error)."""
        key, url = "sk-demo-not-a-real-key", f"{base_url}/v1"
        return cls(
            openai_client=openai.OpenAI(api_key=key, base_url=url, max_retries=0),
            anthropic_client=anthropic.Anthropic(
                api_key="sk-ant-demo-not-a-real-key", base_url=base_url, max_retries=0
            ),
            chat_model=ChatOpenAI(model=CHAT_MODEL, api_key=key, base_url=url, max_retries=0, temperature=0.2),
        )

    def rag_chain(self, prompt_version: str) -> Runnable:
        prompt = ChatPromptTemplate.from_messages([("system", PROMPTS[prompt_version]), ("human", "{question}")])
        return (prompt | self.chat_model | StrOutputParser()).with_config(run_name="answer")

    def answer_from_policies(self, question: str, prompt_version: str) -> str:
        documents = PolicyRetriever().invoke(question)
        context = "\n".join(f"[{doc.id}] {doc.page_content}" for doc in documents)
        return self.rag_chain(prompt_version).invoke({"context": context, "question": question})

    def answer_order_question(self, question: str) -> str:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are Velora Bikes' support assistant. Look orders up with the tool."},
            {"role": "user", "content": question},
        ]
        reply = self.openai_client.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[ORDER_TOOL])
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = get_order_status(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        final = self.openai_client.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[ORDER_TOOL])
        return final.choices[0].message.content or ""

    def summarise(self, question: str, answer: str) -> str | None:
        """A one-line CRM note by Claude; None when the API fails (the answer matters more than the note)."""
        try:
            note = self.anthropic_client.messages.create(
                model=SUMMARY_MODEL,
                max_tokens=100,
                system="Summarise the support exchange in one line for the CRM.",
                messages=[{"role": "user", "content": f"Customer: {question}\nAssistant: {answer}"}],
            )
        except anthropic.APIStatusError:
            return None
        return note.content[0].text

    @llmtap.workflow(name="support_turn")
    def handle(self, question: str, prompt_version: str) -> Answer:
        ref = llmtap.current_span_ref()  # this turn's span, kept for the feedback
        if _ORDER_ID.search(question):
            answer = self.answer_order_question(question)
        else:
            answer = self.answer_from_policies(question, prompt_version)
        self.summarise(question, answer)
        return Answer(answer, ref)
