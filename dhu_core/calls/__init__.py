"""Twinning calls: a coordinator's call with places, a grant and rules; adopters' applications
with their preferred practices, which the practices' originators confirm; the deadline.

`calls` owns the call itself, `applications` the applications and the originators' answers,
`eligibility` the rules an application is checked against when it is submitted.
"""
