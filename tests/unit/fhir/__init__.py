"""Health advice requests as FHIR R4 (mappings/fhir.py) and their validation with fhir.resources
(adapters/nhs/resources.py): the BaRS-style message, the facade's resources, and what NHS teams
send back."""
