"""The page websocket route (/live): a door, like the routes of the features."""
