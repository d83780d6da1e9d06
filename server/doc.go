// Package server holds flowrun's HTTP servers. ModelAPI is the standalone
// prediction API of "flowrun serve" (the KServe v1 shape) over the model
// registry; the job server will live here too.
//
// A worked example:
//
//	reg, _ := registry.Open(ctx, js)
//	api := server.NewModelAPI(reg, server.Config{Token: os.Getenv("FLOWRUN_TOKEN")})
//	defer api.Close()
//	http.ListenAndServe("127.0.0.1:8080", api)
//
//	$ curl -s localhost:8080/v1/models/fraud:predict \
//	    -d '{"instances": [{"amount": 120.5, "tx_count": 3}]}'
//	{"predictions":[0.0731],"labels":[false],"model_name":"fraud","model_version":3}
//
// For a classifier, "labels" is the predicted class of each instance: its
// label as trained (here the bool label column is_fraud) when the version
// records its labels, else the class number.
// Each model is scored by the version its registry.Handle holds, so a
// promotion (flowrun models promote) is served within about a second and a
// request is never scored by two versions. See docs/registry.md for the
// routes, errors and metrics.
package server
