"""KV queries: schema as data, key descriptions, prompts, truth restricted to the asked keys, the query
data set."""
