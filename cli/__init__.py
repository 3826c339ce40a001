"""The `linkedin-ats` command line: it fronts every process and operation of the project.

The top of the dependency graph: it may import any package, and imports each lazily
inside its command so `linkedin-ats sandbox` never loads Temporal.
"""
