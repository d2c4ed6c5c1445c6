"""The configuration's models, one module per section of an environment's file.

`shared` holds what several sections use (the frozen base model, names, ids, tags, schedules);
`environment` composes the sections and checks what spans them. Callers import through
`platform_config.models`, which re-exports every model.
"""
