# The openai releases this plugin is tested against.
_instruments = ("openai >= 3.50, < 4",)
