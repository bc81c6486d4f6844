"""The closed-loop search over joint settings (docs/search.md): the space the packs define, a
model that proposes from every screening result, the loop with its budget, and the reduction of
a winner to the settings that matter."""
