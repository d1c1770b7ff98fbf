namespace Trove.Index.Sqlite;

internal static class Schema
{
    /// <summary>Bump when the tables change: an index of another version is dropped and rebuilt from the files.</summary>
    public const int Version = 5;

    public const string Sql = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS media(
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            in_trash INTEGER NOT NULL,
            kind TEXT NOT NULL,
            ext TEXT NOT NULL,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            width INTEGER,
            height INTEGER,
            phash INTEGER,
            dhash INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            uploader TEXT,
            mask_source TEXT,
            mask_category TEXT,
            tag_count INTEGER NOT NULL,
            caption TEXT,
            stamp_size INTEGER NOT NULL,
            stamp_mtime INTEGER NOT NULL,
            stamp_digest TEXT NOT NULL,
            taken_at INTEGER,
            crop_count INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            derived_from TEXT,
            derived_model TEXT);
        CREATE INDEX IF NOT EXISTS media_created ON media(in_trash, created_at, id);
        CREATE INDEX IF NOT EXISTS media_seq ON media(seq);
        CREATE TABLE IF NOT EXISTS removed_media(seq INTEGER PRIMARY KEY, rid INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS suggestions(rid INTEGER NOT NULL, tag TEXT NOT NULL, status TEXT NOT NULL, confidence REAL NOT NULL, model TEXT, model_version TEXT, PRIMARY KEY(rid, tag)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS faces(rid INTEGER NOT NULL, face_id INTEGER NOT NULL, status TEXT NOT NULL, person TEXT, usable INTEGER NOT NULL, rejected_for TEXT NOT NULL, PRIMARY KEY(rid, face_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS faces_person ON faces(person);
        CREATE TABLE IF NOT EXISTS tags(tid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS media_tags(tid INTEGER NOT NULL, rid INTEGER NOT NULL, source TEXT NOT NULL, PRIMARY KEY(tid, rid)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS media_tags_rid ON media_tags(rid);
        CREATE TABLE IF NOT EXISTS captions(rid INTEGER NOT NULL, caption_id INTEGER NOT NULL, text TEXT NOT NULL, is_primary INTEGER NOT NULL, source TEXT NOT NULL, model TEXT, model_version TEXT, status TEXT NOT NULL, PRIMARY KEY(rid, caption_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS crops(rid INTEGER NOT NULL, name TEXT NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL, PRIMARY KEY(rid, name)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS relations(rid INTEGER NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY(rid, type, target)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS relations_target ON relations(target);
        CREATE TABLE IF NOT EXISTS collection_members(collection_id TEXT NOT NULL, rid INTEGER NOT NULL, position INTEGER NOT NULL, PRIMARY KEY(collection_id, rid)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS collection_members_rid ON collection_members(rid);
        CREATE TABLE IF NOT EXISTS collections(id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, tags TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, stamp_size INTEGER NOT NULL, stamp_mtime INTEGER NOT NULL, stamp_digest TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS categories(name TEXT PRIMARY KEY, ord INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS vocab_tags(name TEXT PRIMARY KEY, category TEXT, description TEXT) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS aliases(from_name TEXT PRIMARY KEY, to_name TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS implications(child TEXT NOT NULL, parent TEXT NOT NULL, PRIMARY KEY(child, parent)) WITHOUT ROWID;
        """;

    public static readonly string[] DataTables =
        ["media", "tags", "media_tags", "captions", "crops", "relations", "collection_members", "collections", "categories", "vocab_tags", "aliases", "implications", "removed_media", "suggestions", "faces"];
}
