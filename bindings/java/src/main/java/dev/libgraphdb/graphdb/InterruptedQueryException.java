package dev.libgraphdb.graphdb;

/** The query was stopped by {@link Connection#interrupt()}; its changes were undone. */
public class InterruptedQueryException extends GraphDbException {
    private static final long serialVersionUID = 1L;

    public InterruptedQueryException(String message) {
        super(Status.INTERRUPTED, message);
    }
}
