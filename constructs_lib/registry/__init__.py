"""Registry and promotion, on the side that builds models: model package groups (shared by RAM), the
approval guard, the forwarding of model events to serving environments, and the promotion role
(ADRs 0008, 0010)."""
