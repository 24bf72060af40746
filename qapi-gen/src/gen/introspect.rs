//! `query-qmp-schema`: the schema's introspection value (not written yet).
