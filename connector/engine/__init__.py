"""Pure decisions: scoring, lifecycle, accounts, attribution, funnel.

Engines take plain values and return plain values; they never import the
state store or a Salesforce client, so they are tested without a network.
"""
