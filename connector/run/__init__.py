"""One run: scope, gather (state -> plain values), mirror refresh, execute."""
