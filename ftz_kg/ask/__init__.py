"""Asking in plain language (issue 20): a deterministic interpreter from a question in Chinese or
English to a canned query of the catalogue and its parameters, shared by `ftz-kg ask`, `GET /ask`
and the benchmark. normalise → lexicon (entity mentions) → intents (question patterns per query,
`queries/<name>.ask.yaml`) → interpret (scored readings) → answer (run and explain)."""
