"""The live channel: broker, presence, events and the page socket."""
