"""The no-I/O core that both clients and both job handles share.

* `call`: one call's retry state machine and the may-I-retry decision;
* `settings`: a client's settings, checks and request building (`BaseClient`);
* `watch`: one `wait()` or `follow()`'s decisions (when to ask next, deadlines, outages);
* `primitives`: the paired sync/async pieces (locks, shields) that keep `_sync`
  a mechanical rewrite of `_async`.
"""
