"""HTTP plumbing shared by the HTML pages and (later) the JSON API: no business rules."""
