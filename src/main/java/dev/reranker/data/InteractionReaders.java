package dev.reranker.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Readers for the interaction formats the engine trains on. Every reader is strict: a line that does
 * not parse becomes a {@link ReadResult.BadLine} with its number and reason, and reading goes on.
 */
public final class InteractionReaders {

  /** A file format. */
  public enum Format {
    /**
     * MovieLens {@code ratings.csv}: header {@code userId,movieId,rating,timestamp}, timestamp in
     * epoch seconds. Every rating is an interaction of type {@code rating} (the engine models what
     * a user watched next, not the score given).
     */
    MOVIELENS,
    /** SASRec's text format: {@code user item} per line, whitespace separated, in time order. */
    SASREC,
    /** The project's JSON Lines events ({@link InteractionJson}). */
    JSONL;

    public static Format parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException("unknown format '" + s
            + "' (accepted: movielens, sasrec, jsonl)");
      }
    }
  }

  private InteractionReaders() {}

  /** Reads a file in the given format. */
  public static ReadResult read(Path path, Format format) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      return read(in, path.toString(), format);
    }
  }

  /** Reads from any reader; {@code source} names it in reports and derived event ids. */
  public static ReadResult read(Reader reader, String source, Format format) throws IOException {
    BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
    List<Interaction> events = new ArrayList<>();
    List<ReadResult.BadLine> bad = new ArrayList<>();
    long lineNumber = 0;
    long dataLines = 0;
    String line;
    while ((line = in.readLine()) != null) {
      lineNumber++;
      if (format == Format.MOVIELENS && lineNumber == 1 && line.startsWith("userId,")) {
        continue; // the header
      }
      if (line.isBlank()) {
        continue;
      }
      dataLines++;
      try {
        events.add(switch (format) {
          case MOVIELENS -> movieLens(line, lineNumber);
          case SASREC -> sasRec(line, lineNumber);
          case JSONL -> InteractionJson.parse(line);
        });
      } catch (InvalidEventException e) {
        bad.add(new ReadResult.BadLine(lineNumber, e.getMessage(),
            InteractionJson.abbreviate(line)));
      }
    }
    return new ReadResult(source, dataLines, events, bad);
  }

  private static Interaction movieLens(String line, long lineNumber) throws InvalidEventException {
    String[] f = line.split(",", -1);
    if (f.length != 4) {
      throw new InvalidEventException("expected 4 comma-separated fields (userId,movieId,rating,"
          + "timestamp), got " + f.length);
    }
    String user = requireId(f[0].trim(), "userId");
    String item = requireId(f[1].trim(), "movieId");
    try {
      double rating = Double.parseDouble(f[2].trim());
      if (!(rating >= 0 && rating <= 5)) {
        throw new InvalidEventException("rating must be in [0, 5], got " + f[2].trim());
      }
    } catch (NumberFormatException e) {
      throw new InvalidEventException("rating is not a number: '" + f[2].trim() + "'");
    }
    long seconds;
    try {
      seconds = Long.parseLong(f[3].trim());
    } catch (NumberFormatException e) {
      throw new InvalidEventException("timestamp is not an integer: '" + f[3].trim() + "'");
    }
    if (seconds < 0 || seconds > Long.MAX_VALUE / 1000) {
      throw new InvalidEventException("timestamp out of range: " + seconds);
    }
    return new Interaction(user, item, seconds * 1000, EventType.RATING, "ml-" + lineNumber);
  }

  private static Interaction sasRec(String line, long lineNumber) throws InvalidEventException {
    String[] f = line.trim().split("\\s+");
    if (f.length != 2) {
      throw new InvalidEventException("expected 2 whitespace-separated fields (user item), got "
          + f.length);
    }
    return new Interaction(requireId(f[0], "user"), requireId(f[1], "item"),
        Interaction.NO_TIMESTAMP, EventType.VIEW, "sasrec-" + lineNumber);
  }

  private static String requireId(String s, String field) throws InvalidEventException {
    if (s.isEmpty()) {
      throw new InvalidEventException("empty " + field);
    }
    if (s.length() > InteractionJson.MAX_ID_LENGTH) {
      throw new InvalidEventException(field + " is longer than " + InteractionJson.MAX_ID_LENGTH
          + " characters");
    }
    return s;
  }
}
