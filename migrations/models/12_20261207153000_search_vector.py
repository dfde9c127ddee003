"""search_vector: PostgreSQL keeps each index row's terms as a stored tsvector (a generated column,
with the GIN index on it instead of on the expression), so a walk newest first checks a row
without rebuilding its tsvector, and ranking reads it instead of making it (the middling word
newest first: ~40 ms p50 / ~98 ms p95 at a million messages, the expression rebuilt for each of
the ~40,000 rows walked). Written by hand (tools/make_migration.py has nothing to generate: no
Tortoise model describes a generated column, which is why the model does not name it); nothing
changes on SQLite, whose FTS5 table is the index."""
from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {
    'sqlite': {
        'upgrade': "SELECT 1",
        'downgrade': "SELECT 1",
    },
    'postgres': {
        'upgrade': """
        ALTER TABLE "message_search" ADD "vector" tsvector
            GENERATED ALWAYS AS (array_to_tsvector(string_to_array("terms", ' '))) STORED;
        CREATE INDEX "message_search_vector" ON "message_search" USING gin ("vector");
        DROP INDEX IF EXISTS "message_search_terms";
""",
        'downgrade': """
        CREATE INDEX "message_search_terms" ON "message_search" USING gin (array_to_tsvector(string_to_array("terms", ' ')));
        DROP INDEX IF EXISTS "message_search_vector";
        ALTER TABLE "message_search" DROP COLUMN "vector";
""",
    },
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.capabilities.dialect]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.capabilities.dialect]["downgrade"]


MODELS_STATE = 'eJztXW1z2zYS/isYfTl7RslYsuz40s7NSK7TuLWtjK20vSYdDiTCEk4kwJCQFU2b/34ASIrvNCmLEsXgky1gFySfBYF9Fgvw75ZJdWQ4r/sLHbOrJ0RY6y34u0Wgifg/KbVt0IKWFdSJAgbHhhSHQk5DQlBWwLHDbDgRbT5Cw0G8SEfOxMYWw5QIjd9nFOhYB8sZZIBR/peab4G4vAOgjcCEWhjpwKGAt2ljXkoXzMBPCLAZAnAyoQt+LfFjBUwuwpt9DfpEXFynE351TKYVXuczQabFVlyAUVsTzQEspXiDpgmJDgxMEDh6+O/D6Or2+LW4rwXBXxZIY3SKuKDN7+7TX7wYEx19RY7/05prjxgZesQcWBcNyHKNrSxZdk3YOykoHnmsTaixMEkgbK3YjJK1NHZNOEUE2ZAh0TyzF8IwZGEYnh19W7l3Goi4txjS0dEjXBjCvELbvYGgrKVpd8OR9nA10rRWwvS+RshKXtGEEtFtsOhE4umn4hZedTu9N72L0/PeBReRt7kuefPNvXQAjKso4bkbtb7JesigKyExDkCd2EggoUGWBPcnXsOwidIRjmrGkNY91df+P3HcfZTzgPcLAuSD92gX0PMH1IfEWHkmz8F5dH179TDq334QlzMd54sh8euPrkRNV5auYqVH58einPIhwh0/1o2A369H74H4Cf4c3l1JeKnDpra8YiA3+rMl7gkuGNUIXWpQD/VOv9RHjUsGVg/e2KTVL2fQTrd4VCtmcY5cVTZutaqysAm/agYiUzbjP09Pciz8W//+8n3//uj0JGa1O6+mK6u+xWEWd1QOYk9jd/BW+QpFAO4VAbiXDXAvATCDNp9HSnfkmJrqyc/2ZAva0HSSGP/yMLxLxzjQiE8NeMLAP9w1cBKT8dZg/vFxQeSbBMYLbDBMnNfisv+pCv4cuAVCkVnBh/notv9H3AKXN8NBfLgXDQxi5tARg9go0+UDjcb19rOTIt2dS2X2d1mXGLr5XFfK5QyrPO94poDszdy1Gby34nomButSmEZ0FKguqIIhPc5T3XnZB5P4vqM2wlPyK1pJmK/5LUEySZv8PM770UFFhoWagfvN7z5+aXCLNlyuKWXkTeXPzp8YMfn0/AbA3cebm1ZKx1WoPoNq5F3NgFV03TGczJfQ1rVIHxY1tEtjJWvZZJXZNeMlkMCpxEc8iLhtD/dLSp6Q7UDvyRMRnkh9Oy/GMwlJFgvyZMOsQiH1CoXM+WOVcal8+R06VDal5m6cqosCLtVFpkN1EXenyjK0F1Gzmo2fVZNg8Vebo1VZfH2drWC835FhFwg7czGflQvnJBSbhnX3ogjYXCoTbVmXBveMLskLQE+oK+gLQM+ohSelQmm+QuPCCt1CYYVuTlihmwwrYEejFkrpzgNKDQRJhgcXaMVgHnO1qnD2u/Zu42WD4fAmEi8bXI9iAH+8HVzdH3Uk7lwIuyQjGXDQsY0mrOzUGNVq3KhRRa9Wi4jZ6Dd3EdGADtMc9CVlMMPTTDYa1toooLeRhU+qMq/LSf/d7Z6evumenJ5fnPXevDm7OFmT02RVHksdXP8sxrGISZMD24z3KWSXxz6qp9DfDH1oT2b4aaPhLqa6hfGuZlz3QIY3H5Pc8c2fm8arcmsWCT21bvHsukWAmQqzPxNmT3Sv0qH2UPwbmWNkOzNspaztDzzld7/eIwNm5KV4kN+uGzpAHy0L+choYCLHgVP0YpxkK00CqcqFm3cI6aKlVsqizbqunbdg8xiWejYhtw8IZQg82tQEECz4OCLSZUVGq4WoZSCROQvsBZFFDieeMqc1kmu7WRNqLahea0EMM6NcSpmv0MC8vU6hmEEnJ2bQSYkZUMK8lPooxiP0NcuxClQagXKes3z1xyjiJyeyxta+8s3w7mdfPJ5KpsI0KkyzsPQNrR7VVFavi9VT2GvCXUU69khC2aX3pGbzFuErSPVfcIzKJoyGdaqKxh2aV5aX3Cjx2l2AoGboFs5uDHerSHDgsv9w2f/pal9peNfkCbPMJLxQbTuP0eG1XMFdln2xDXEOIAFQNzHBQp5RG5hQR285BSNTA73iRA3wskdZTlZtsCAMGwAzgL5a2BZbIm2xu9FGT3SO9DTeV8FVPpMRZ4mM/09EMUFPnE46vFmkv+VaDphBZwYeeX90910G2LSBt/9yLlYywZHNf1LzGCwxmwnRz0Rwz385wEHcuWNACJlwjtx23CvCKe9l4Oj9bf/yuC12h8onc8CEP+SEWivJb4VZ/EdfAeEItD+T5Qwb7uZRwbDGkD82NKjYCwqB6EsLi98fMBCcH4MZ5X2Hk2awpPacwyQbU6S4jqRY9ApNdLlSzDiitR3iVqMF9fNeAVfivJfpSoiqqCvhv7RlQA7rNC4T57RbxFvrZntr3ayEhQ3c4xTV5gG+dfdYxETLoOzLNw7a7lmR8YJLZeffnCVGDBXYec5pPkBKn4zkeD7iBmaOaioz19rMYrzgRCFlpTHTgw2rqGyDZMpOSThfBGUdM6S2BqRHTDcYgqKaKvOpziOQynxSmU81SC1pV5j59D+KCUrp22WSeYKIJcf9cJ2m3ab0REHLjQN7qBYJBa+9n2KH7rnWB2xm08V0BpYzPJmFgqfJ6G5RJRWyrFfIUuRflY3whHUakWdSdXDHfTE28AkjioqV1tonDI215UaquJ5a6E7lpyVzB0Iau2OpNUc0x8vGkcXlF3rZ0ZXqw+q5RX3txGubnkgQ78S74zB168BFgQ29uHXKzQht4EjxyaPbO7Id8th+ku0ejvQpcvqS9LZFV/lLOdh7dLCV79es3NLCG7/F4224+zus2pgQ+443IUsgn7CDN1v3TVFXIfk606/w1FcyKJ/UVIzhUDjYobkKeQsdMefthTQhfmbngfXewmseybf3AJlYHRlubYmYu0M8lYWtN4/nUbBgn3rV/Ev4cPxhkhUTAyMijwKOs7OkrPghOrdsrBR5y3M0G8bfduJdZrM8b0tJ6Q/GRNXUYkqBxZQx1VMyAbI3RfvyjQB31zuiS/PXnbPWhgwtAeTh4b4U9DFFZYKNTRDMziXG8ohS83YEb38bj0rKz4a+ubFRb/f8Bin6uorF7d/EhWJxLlfcxMhRTWXlOlt5Pyc61Myg2w6yqjC2irruf3yqJuq66+NJajZUvPx4kn1/JsyLrz4gcUxzKzsA6wm0C4RhOVtdy1b5pbBPaV3Wvwc/DJsaWA0JJXpuHh2P6m1nKFaRVjVBVv8ZUmSnfck4O8K6VlAh1oIh1oQ/sp/x/AN0nCW19XvkIDYSx9CkDeopUrkju+XJa7ZQ0OTxNoVPoqIEvZJnJLkHPonjjtyzlsSRUOK8JGRCbCAdyMblUUg/cCVjFZz2hB3vBKi0M6i23r7a0FSvfEt1BtNOgrfrl/yR3wWyLRunHVWcDXiWfiOmEBU5r+XsfWgBNnWczXdhZpVXWW2ETyX7HW6yn+Ac9hPS71xbJrhJpD6XldiepEy2Ul+mP7w3PM/p3+nX0+s2F1Z+NOU+Pp9es/67C4j39/30ms1ZsQNBO4U+yNvJ+SBvp85fUP/+wOcc1CmHd6DRwBG7c14A4k6coYS+HXWu4gMqs24fPLJmC+yN4pE1w/alPHLfqQsS9RQC6VsjmziKJ1J8sVl8UZ16twNS4wNWljvG9RR/LA71JmQmVXkrG1hqhHklRCZAbmMmmdOEMkEBE+jYsQxY/is1cb3GfUdl+6vOYcg26uuZDVS0W25/Xb3XuyiAPpfKhF/WRfGXmUll8F4rNG4GreQjQeuUlLLJQwnFBrqH3bOzQoif5SB+FkccO5r8YmIS7AGlBoIkg+WE1GJQj7leVVivS3abzzAYDm8iEajBdTyr9OPt4Or+qCOh50LYpdwpm4tUXPA7jAvKo+wchMimx+CFdNWOzLplEpVIJQ+6xCNCupBJGXhLfN7jXaiVA3vds8KZkRcndljv5kBFTwduIlTxVP/NsUrfbdBEzBzkOP5HujfHSwSwH9yWmgRU1WsBPmQZSwIhRPNXBrSwFZ/f4DIkCDh4SpD+ChOgoyc8QeBoztEHSzQ+Fl8373+49rakuOXQwsc/ALmSInerzBCw6RIg8UlzzJJ7XKq5hFrBqNcKhtrmspOYl3g9ygDsy+8wnMhf6t1EFIuEtLIDWolwliKjz82KB8tJasw+lakr3sjCXa5yOwGjWo1bh6kmcGqVQdiVbhyyvSLA9rJx7SVgVTuxmpRBVzNsD3wnVh/ZOP3QH6+mnUeVYSCjsugO6W1u53BQ78DhMlNRSEUtkhab68VLVQJhT7yB6HZOiuQPcansnRInifwhfkWW6rD+8jC8y6CfgUqckOAJA/8AAzuHeI5UDrgCjAgLSRx8FD/jqB2lF6KBvR989O3/Q+uytA=='
