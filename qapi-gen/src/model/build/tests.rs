//! Tests of the model builder and its checks.
