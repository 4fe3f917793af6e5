# The langchain-core releases this plugin is tested against.
_instruments = ("langchain-core >= 1.0, < 2",)
