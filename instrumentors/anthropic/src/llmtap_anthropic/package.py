# The anthropic releases this plugin is tested against.
_instruments = ("anthropic >= 2.14, < 3",)
