"""`make chaos`: the whole stack under faults and SIGKILLs, audited against LinkedIn's view.

`chaos.stack` runs the four processes `linkedin-ats up` runs (on free loopback ports, in a
temporary data dir) and kills and restarts them; `chaos.drive` plays customers, an ATS
and LinkedIn's bad days; `chaos.audit` compares what LinkedIn has with what we say.
"""
