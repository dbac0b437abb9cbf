"""The wallet ledger view risk needs: double-entry postings, balances, holds, top-ups."""
