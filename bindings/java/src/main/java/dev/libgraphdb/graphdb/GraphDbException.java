package dev.libgraphdb.graphdb;

/**
 * A failure reported by libgraphdb: its {@link Status}, the message the library gave, and for
 * syntax errors the 1-based line and column (0 when there is none).
 */
public class GraphDbException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Status status;
    private final long line;
    private final long column;

    public GraphDbException(Status status, String message) {
        this(status, message, 0, 0);
    }

    public GraphDbException(Status status, String message, long line, long column) {
        super(message);
        this.status = status;
        this.line = line;
        this.column = column;
    }

    public Status status() {
        return status;
    }

    /** 1-based line of a syntax error; 0 when the failure has no position. */
    public long line() {
        return line;
    }

    /** 1-based column of a syntax error; 0 when the failure has no position. */
    public long column() {
        return column;
    }

    @Override
    public String toString() {
        String where = line > 0 ? " at " + line + ":" + column : "";
        return getClass().getName() + " [" + status + where + "]: " + getMessage();
    }

    /** True when running the whole transaction again may succeed (a CONFLICT). */
    public boolean isRetryable() {
        return status == Status.CONFLICT;
    }

    /** Called by the JNI glue: the most specific exception class for the status. */
    static GraphDbException fromNative(int code, byte[] message, long line, long column) {
        Status status = Status.fromCode(code);
        String text = message == null ? status.name() : Utf8.decode(message);
        return of(status, text, line, column);
    }

    static GraphDbException of(Status status, String message, long line, long column) {
        switch (status) {
            case CONFLICT:
                return new ConflictException(message);
            case INTERRUPTED:
                return new InterruptedQueryException(message);
            case SYNTAX_ERROR:
                return new SyntaxErrorException(message, line, column);
            default:
                return new GraphDbException(status, message, line, column);
        }
    }
}
