module github.com/libgraphdb/libgraphdb/bindings/go

go 1.22
