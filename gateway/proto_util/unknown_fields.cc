#include "gateway/proto_util/unknown_fields.h"

#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"

namespace lienthong::proto_util {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool HasUnknownFields(const Message& message) {
  const Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  const Descriptor* descriptor = message.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int j = 0; j < size; ++j) {
        if (HasUnknownFields(
                reflection->GetRepeatedMessage(message, field, j))) {
          return true;
        }
      }
    } else if (reflection->HasField(message, field) &&
               HasUnknownFields(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

void DiscardUnknownFields(Message* message) {
  if (HasUnknownFields(*message)) message->DiscardUnknownFields();
}

}  // namespace lienthong::proto_util
