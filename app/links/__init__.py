"""Link previews: the first web address of a message, fetched by a job after it is sent (never by
a reader's browser, never on the request path) and shown under it. fetch.py and addresses.py are
the network side (public addresses only), page.py what a message links and what a page says."""
