"""The consent ledger: what each family member agreed to, per scope and channel, and when."""
