"""SavedModel export for TF Serving (export_saved_model), a REST/gRPC client, a stand-in server and a painting demo."""
