package dev.libgraphdb.graphdb;

/**
 * A write-write conflict or serialization failure: the transaction was rolled back and may be
 * run again ({@link Connection#transact} does so).
 */
public class ConflictException extends GraphDbException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(Status.CONFLICT, message);
    }
}
