"""The demo's traffic: six customers asking two questions each, A/B-split between prompt versions v1 and v2,
and the thumbs up / down each of them gave the answer (end-user feedback)."""

from __future__ import annotations

from typing import NamedTuple


class Customer(NamedTuple):
    user_id: str
    segment: str  # free | pro
    prompt_version: str  # v1 | v2 (the A/B split is by customer)


class Turn(NamedTuple):
    customer: Customer
    question: str
    feedback: str  # thumbs_up | thumbs_down, what the customer clicked


RETURNS = "Can I return a bike I bought three weeks ago?"
SIZING = "Which frame size should I get? I'm 172 cm tall."
RANGE = "How far does the e-bike go on one charge?"
WARRANTY = "Is a cracked frame covered by the warranty?"
SERVICE = "Do I have to pay for the first service?"
ORDER_SHIPPED = "Where is my order VB-1042?"
ORDER_PACKING = "Has order VB-2077 shipped yet?"

_ANA = Customer("u-101", "pro", "v1")
_BEN = Customer("u-102", "free", "v1")
_CHLOE = Customer("u-103", "pro", "v1")
_DEV = Customer("u-104", "free", "v2")
_EMMA = Customer("u-105", "pro", "v2")
_FINN = Customer("u-106", "free", "v2")

TURNS = [
    Turn(_ANA, RETURNS, "thumbs_up"),
    Turn(_DEV, RETURNS, "thumbs_up"),
    Turn(_BEN, SIZING, "thumbs_down"),
    Turn(_DEV, SIZING, "thumbs_up"),
    Turn(_ANA, ORDER_SHIPPED, "thumbs_up"),
    Turn(_EMMA, ORDER_PACKING, "thumbs_up"),
    Turn(_BEN, RANGE, "thumbs_down"),
    Turn(_EMMA, RANGE, "thumbs_up"),
    Turn(_CHLOE, WARRANTY, "thumbs_down"),
    Turn(_FINN, WARRANTY, "thumbs_up"),
    Turn(_CHLOE, SERVICE, "thumbs_up"),
    Turn(_FINN, SERVICE, "thumbs_down"),  # Claude is overloaded for this one: the demo's error
]
