"""The NHS: health advice requests for EHC needs assessments sent as FHIR R4 message Bundles in
the style of the Booking and Referral Standard (BaRS), and the FHIR R4 resources NHS teams send
back through the gateway's facade, checked with fhir.resources before anything is kept."""
