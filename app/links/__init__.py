"""Link previews: the first web address of a message, fetched by a job after it is sent (never by
a reader's browser, never on the request path) and shown under it. fetch.py (with addresses.py,
body.py and errors.py) is the network side, public addresses only; page.py reads what a page says
of itself."""
