package dev.libgraphdb.graphdb;

/** The query does not parse; {@link #line()} and {@link #column()} say where (1-based). */
public class SyntaxErrorException extends GraphDbException {
    private static final long serialVersionUID = 1L;

    public SyntaxErrorException(String message, long line, long column) {
        super(Status.SYNTAX_ERROR, message, line, column);
    }
}
