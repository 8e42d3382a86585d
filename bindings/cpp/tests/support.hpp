// Shared test fixture: a fresh database directory per test, removed afterwards.
#pragma once

#include <graphdb/graphdb.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace graphdb_test {

class TempDir {
public:
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "graphdb-cpp-XXXXXX").string();
        if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string db_path() const { return (path_ / "db").string(); }
    std::filesystem::path path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A database in a temporary directory with sync=off: the tests check semantics, not fsync.
class DbTest : public ::testing::Test {
protected:
    DbTest() : db(dir.db_path(), graphdb::Options().sync("off")), conn(db.connect()) {}
    TempDir dir;
    graphdb::Database db;
    graphdb::Connection conn;
};

}  // namespace graphdb_test
