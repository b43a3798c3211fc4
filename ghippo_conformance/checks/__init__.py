"""What a conformance suite imports, and the helpers behind it.

Assertions and data: `expect` (assertions that carry their evidence), `cases` (case tables as test
parameters), `applies` (a case that does not apply: not applicable, never unjudged); below every
package, `ghippo_conformance.json_schemas` (the JSON Schemas, resolved locally) and `ghippo_conformance.paths`
(where the data lives).

Bearers: `tokens` (reading JWTs without trusting them, the primitives of forging), `forgeries`
(forged bearers by recipe name), `attacks` (the bearer-attack catalogue built and sent as one batch),
`secrets` (near misses of a secret), `challenges` (reading WWW-Authenticate), `key_sets` (the certs
answer and the rules a published key set keeps), `identity` (who the API says the bearer is).

Expiry: `token_records` (tokens kept for a later run's expiry check), `moved_clock` (the same check in
one run, against a reference whose clock the run may move), `waiting` (for an eventually consistent
result, without retries).

Requests: `batch` (independent requests sent side by side), `shapes` (the shapes in which a client
could send an operation), `routing` (other methods and path spellings that may reach a handler),
`generated` (schemathesis over the OpenAPI document). The deployment's state: `pages` (the users
walk); the keys this run creates and the deployment's clock are the deployment layer's
(`ghippo_conformance.deployment.keys`, `.clock`).

Everything else in the package is the plugin's machinery.
"""
