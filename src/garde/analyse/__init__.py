"""The notice analyser: an existing privacy notice or register, read as a document, turned into a
draft register and an Art. 13 gap report (``garde analyse``).

Every value it reports carries a verbatim excerpt of the input as evidence; nothing is invented.
"""
