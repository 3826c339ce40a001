"""The worker process and the settings every process of ours reads.

May import domain, linkedin, activities and workflows.
"""
