"""Temporal activities: thin wrappers over `linkedin.LinkedInClient`.

They turn LinkedIn's permanent errors into non-retryable `ApplicationError`s (one type
name per error class) and transient ones into retryable errors that honour Retry-After.
Imports domain and linkedin.
"""
